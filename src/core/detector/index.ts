export { SwimDetector, type DetectorChange, type DetectorOutput, type MemberRecord } from './swim.js';
export { isSwimMessage, type Liveness, type SwimMessage, type SwimMessageType, type SwimUpdate } from './messages.js';
export { SWIM_CONFIG_DEFAULT, type SwimConfig } from './config.js';
export { NodeWatcher, type WatchListener } from './watcher.js';
