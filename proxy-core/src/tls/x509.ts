import './reflect-polyfill.ts';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * The one place that wires @peculiar/x509 to node's WebCrypto. Every module in this folder
 * imports `x509` from here so the provider is always set before use.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Backdate `notBefore` a little so that peers with a slightly slow clock accept a new cert. */
export const CLOCK_SKEW_MS = 5 * 60_000;
