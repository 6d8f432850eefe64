/** Opening one side's bytes for a reader, closing them again if the reader fails. */
import type { ComparatorInput, Container } from '../comparator.js';
import type { RandomAccessSource } from '../../io/source.js';

/** Runs `build` on random access to the input; closes the source when `build` throws. */
export async function withSource(input: ComparatorInput, build: (source: RandomAccessSource) => Promise<Container>): Promise<Container> {
  const source = await input.blob.open();
  try {
    return await build(source);
  } catch (e) {
    await source.close();
    throw e;
  }
}
