export { SettingsStore, SETTINGS_FILE_NAME, portKeyString, type PortKey } from './settings-store.ts';
export { PORT_RANGE, preferredPort, isPortFree, allocatePort } from './port-allocation.ts';
