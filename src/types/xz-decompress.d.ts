// The xz-decompress package ships no type declarations; this is the part reprimage uses.
declare module 'xz-decompress' {
  const xzDecompress: {
    XzReadableStream: new (compressed: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
  };
  export default xzDecompress;
}
