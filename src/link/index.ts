export { LinkStation, type LinkEvent, type LinkDeps } from './link-station.ts';
export type { LinkOptions } from './link-options.ts';
export type { LinkPort } from './link-port.ts';
export { LinkRefusal, MemoryOutbound, MemoryProgressStore, type InboundSink, type OutboundItem, type OutboundSource, type ProgressStore } from './contracts.ts';
export { pickNext, comparePriority, compareFifo, type SchedulerMode } from './scheduler.ts';
export { openSerialLinkPort, type SerialSettings } from './serial-link-port.ts';
export { kissSetup, type KissParams } from './kiss-setup.ts';
export { openTcpLinkPort } from './tcp-link-port.ts';
export { deliveryEstimateMs, expectedBundleBytes, frameAirBytes, frameSizesFor, largestProtectedFrame, type AirFraming, type DeliveryModel } from './air-time.ts';
