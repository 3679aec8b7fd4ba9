// A flow record as the kernel writes it (struct xids_flow_record) turned into the bus's FlowRecord.
import { FlowRecord } from "../../../proto/gen/xids/plugin/v1/common.ts";
import { FEATURE_SETS, type FlowRecord as KernelRecord } from "../../../core/ebpf/abi.ts";
import { formatIp } from "../../../core/util/net.ts";

export function toBusRecord(r: KernelRecord, source: string): FlowRecord {
  return FlowRecord.create({
    family: r.family,
    protocol: r.proto,
    endReason: r.endReason,
    srcAddr: formatIp(r.family, r.src),
    srcPort: r.srcPort,
    dstAddr: formatIp(r.family, r.dst),
    dstPort: r.dstPort,
    firstUs: Number(r.firstUs),
    lastUs: Number(r.lastUs),
    kernelVerdict: r.verdict,
    kernelScore: r.score,
    modelVersion: r.modelVersion,
    kernelBlock: r.blockAction,
    kernelEvidence: r.evidence,
    kernelBlockError: r.blockError,
    features: r.features.map(Number),
    featureSet: FEATURE_SETS[r.features.length] ?? "",
    source,
  });
}
