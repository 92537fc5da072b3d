import type { UpstreamSsl } from '../../proxy-core/src/upstream/index.ts';

/** Where a cancel for one backend must go: the very address the session's connection used. */
export interface CancelRoute {
  sessionId: string;
  address: { host: string; port: number; verifyHost?: string };
  ssl: UpstreamSsl;
}

/** Backend keys of live connections → their cancel route. */
export class CancelKeys {
  private readonly routes = new Map<string, CancelRoute>();

  static key(processId: number, secretKey: Buffer): string {
    return `${processId}:${secretKey.toString('hex')}`;
  }

  set(processId: number, secretKey: Buffer, route: CancelRoute): string {
    const key = CancelKeys.key(processId, secretKey);
    this.routes.set(key, route);
    return key;
  }

  get(processId: number, secretKey: Buffer): CancelRoute | undefined {
    return this.routes.get(CancelKeys.key(processId, secretKey));
  }

  delete(key: string): void {
    this.routes.delete(key);
  }
}
