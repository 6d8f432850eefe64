/**
 * The OVF 1.0 descriptor of an OVA holding one streamOptimized VMDK: one virtual system with a
 * SCSI controller (LSI Logic) and the disk, a CPU count, memory and one network card. The
 * values are fixed or given; nothing depends on time. (DMTF DSP0243; the element set VMware's
 * ovftool writes, minus the VMware-only extensions.)
 */
export interface OvfOptions {
  /** The virtual system's name. */
  name: string;
  /** File name of the VMDK inside the OVA. */
  diskFile: string;
  /** Bytes of the VMDK file. */
  diskFileSize: number;
  /** Bytes of the virtual disk. */
  capacity: number;
  /** Default 2. */
  cpus?: number;
  /** MiB; default 2048. */
  memoryMiB?: number;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function ovfDescriptor(o: OvfOptions): string {
  const name = xml(o.name);
  const item = (id: number, type: number, lines: string[]) =>
    ['      <Item>', ...lines.map((l) => `        ${l}`), `        <rasd:InstanceID>${id}</rasd:InstanceID>`, `        <rasd:ResourceType>${type}</rasd:ResourceType>`, '      </Item>'];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"',
    '    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"',
    '    xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"',
    '    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
    '  <References>',
    `    <File ovf:href="${xml(o.diskFile)}" ovf:id="file1" ovf:size="${o.diskFileSize}"/>`,
    '  </References>',
    '  <DiskSection>',
    '    <Info>Virtual disk information</Info>',
    `    <Disk ovf:capacity="${o.capacity}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1"`,
    '        ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>',
    '  </DiskSection>',
    '  <NetworkSection>',
    '    <Info>The list of logical networks</Info>',
    '    <Network ovf:name="VM Network">',
    '      <Description>The VM Network network</Description>',
    '    </Network>',
    '  </NetworkSection>',
    `  <VirtualSystem ovf:id="${name}">`,
    '    <Info>A virtual machine</Info>',
    `    <Name>${name}</Name>`,
    '    <OperatingSystemSection ovf:id="96">',
    '      <Info>The kind of installed guest operating system</Info>',
    '      <Description>Debian GNU/Linux (64-bit)</Description>',
    '    </OperatingSystemSection>',
    '    <VirtualHardwareSection>',
    '      <Info>Virtual hardware requirements</Info>',
    '      <System>',
    '        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>',
    '        <vssd:InstanceID>0</vssd:InstanceID>',
    `        <vssd:VirtualSystemIdentifier>${name}</vssd:VirtualSystemIdentifier>`,
    '        <vssd:VirtualSystemType>vmx-10</vssd:VirtualSystemType>',
    '      </System>',
    ...item(1, 3, [
      '<rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>', '<rasd:Description>Number of Virtual CPUs</rasd:Description>',
      `<rasd:ElementName>${o.cpus ?? 2} virtual CPU(s)</rasd:ElementName>`, `<rasd:VirtualQuantity>${o.cpus ?? 2}</rasd:VirtualQuantity>`,
    ]),
    ...item(2, 4, [
      '<rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>', '<rasd:Description>Memory Size</rasd:Description>',
      `<rasd:ElementName>${o.memoryMiB ?? 2048}MB of memory</rasd:ElementName>`, `<rasd:VirtualQuantity>${o.memoryMiB ?? 2048}</rasd:VirtualQuantity>`,
    ]),
    ...item(3, 6, ['<rasd:Address>0</rasd:Address>', '<rasd:Description>SCSI Controller</rasd:Description>', '<rasd:ElementName>SCSI Controller 0</rasd:ElementName>', '<rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>']),
    ...item(4, 17, ['<rasd:AddressOnParent>0</rasd:AddressOnParent>', '<rasd:ElementName>Hard Disk 1</rasd:ElementName>', '<rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>', '<rasd:Parent>3</rasd:Parent>']),
    ...item(5, 10, [
      '<rasd:AddressOnParent>7</rasd:AddressOnParent>', '<rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>', '<rasd:Connection>VM Network</rasd:Connection>',
      '<rasd:ElementName>Network adapter 1</rasd:ElementName>', '<rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>',
    ]),
    '    </VirtualHardwareSection>',
    '  </VirtualSystem>',
    '</Envelope>',
    '',
  ].join('\n');
}
