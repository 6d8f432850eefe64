/**
 * `reprimage/io`: where bytes come from (random-access sources over files and buffers) and go to
 * (sinks that can patch bytes already written), and output files that appear whole or not at all.
 */
export { openFileSource, bufferSource, sliceSource, type RandomAccessSource } from './source.js';
export { FileSink, MemorySink, StreamSink, type Sink } from './sink.js';
export { writeAtomically, type AtomicWriteOptions } from './atomic-output.js';
export { removeTemporariesSync, pendingOutputs, afterCriticalSections } from './temporaries.js';
export { hashFile } from './hash-file.js';
