/**
 * Registers `gatehouse://` with the OS and collects the links it hands the app: macOS sends
 * `open-url` (possibly before the app is ready), Windows and Linux start a second instance
 * with the link in its argv (or this one, on a cold start). Links wait until `deliverTo` is
 * given a receiver (the window has loaded); main/core/deep-link.ts reads them.
 */
import { app } from 'electron';
import { resolve } from 'node:path';
import { accessLinkInArgv, DEEP_LINK_SCHEME } from '../core/deep-link.ts';

export interface DeepLinks {
  /** From now on, every link (and those that arrived earlier) goes to `open`. */
  deliverTo(open: (url: string) => void): void;
}

/** Call before `app.whenReady()`, once the single-instance lock is held. */
export function listenForDeepLinks(): DeepLinks {
  // Started as `electron path/to/main.cjs` (development), the OS must pass the script too.
  if (process.defaultApp && process.argv.length >= 2) app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [resolve(process.argv[1])]);
  else app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME);

  const waiting: string[] = [];
  let receiver: ((url: string) => void) | undefined;
  const handle = (url: string | undefined) => {
    if (url === undefined) return;
    if (receiver) receiver(url);
    else waiting.push(url);
  };
  app.on('open-url', (event, url) => {
    event.preventDefault();
    handle(url);
  });
  app.on('second-instance', (_event, argv) => handle(accessLinkInArgv(argv)));
  handle(accessLinkInArgv(process.argv));
  return {
    deliverTo(open) {
      receiver = open;
      for (const url of waiting.splice(0)) open(url);
    },
  };
}
