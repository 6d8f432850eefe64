/** VHD (Virtual PC / Hyper-V / Azure): fixed and dynamic writers from a raw disk image, and a reader. docs/formats/vhd.md. */
export {
  VHD_EPOCH, VHD_MAX_GEOMETRY, decodeVhdDynamicHeader, decodeVhdFooter, encodeVhdDynamicHeader, encodeVhdFooter, isVhdFooter, sniffVhd,
  type VhdDynamicHeader, type VhdFooter,
} from './layout.js';
export { VHD_MAX_SIZE, writeVhd, type VhdReport, type VhdWriteOptions } from './writer.js';
export { hasVhdFooter, openVhd, type VhdImage } from './reader.js';
