/**
 * Prometheus gauges for the event log's disk and recording state, read at scrape time.
 * The gateway's metrics endpoint registers them on its registry.
 */
import { Gauge, type Registry } from 'prom-client';
import type { EventLog } from './event-log.ts';

export function registerEventLogMetrics(registry: Registry, eventLog: () => EventLog | undefined): void {
  const health = () => eventLog()?.health;
  new Gauge({
    name: 'gatehouse_gateway_data_dir_free_bytes',
    help: "Free bytes on the filesystem holding the gateway's data dir (event log)",
    registers: [registry],
    collect() {
      const h = health();
      if (h && Number.isFinite(h.freeBytes)) this.set(h.freeBytes);
    },
  });
  new Gauge({
    name: 'gatehouse_gateway_data_dir_low_space',
    help: '1 while free space on the data dir is under the warning threshold (--warn-free-mb)',
    registers: [registry],
    collect() {
      const h = health();
      if (h) this.set(h.lowSpace ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gatehouse_gateway_recording_available',
    help: '1 while session events can be written; 0 while statements and connections are refused (disk full, I/O error)',
    registers: [registry],
    collect() {
      const h = health();
      if (h) this.set(h.recording.state === 'available' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gatehouse_gateway_events_pending_write',
    help: 'Session events waiting to be written to the event log (non-zero only while writes fail)',
    registers: [registry],
    collect() {
      const h = health();
      if (h) this.set(h.pendingWrites);
    },
  });
}
