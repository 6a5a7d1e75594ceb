export { Gateway, splitHostPort, systemRandom, type GatewayOptions } from './gateway.ts';
export { loadConfig, validateConfig, ConfigError, type Config } from './config.ts';
export { createLogger } from './logger.ts';
export { stationSettings, type StationSettings } from './station.ts';
export { queueSnapshot, type QueueEntry } from './queue-view.ts';
export { shippedProfiles, serialPorts, type PortInfo } from './station-tools.ts';
export { runDemo, type DemoRadio } from './demo.ts';
export { statusReport, type StatusReport } from './status-view.ts';
export { controlQueue, type QueueAction, type QueueCommand, type QueueCommandReport } from './queue-control.ts';
