export { createRecorder, MAX_PREPARED_STATEMENTS, type Recorder, type RecorderOptions, type ConnectInfo } from './recorder.ts';
export { MAX_SQL_BYTES, MAX_PARAM_CHARS } from './payloads.ts';
export type * from './events.ts';
