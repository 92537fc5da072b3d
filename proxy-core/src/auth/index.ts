export { ScramClient, SCRAM_SHA_256, SCRAM_SHA_256_PLUS, DEFAULT_MAX_SCRAM_ITERATIONS, type ScramMechanism, type ScramClientOptions } from './scram.ts';
export { saslprep, preparePassword, type SaslPrepResult } from './saslprep.ts';
export { md5PasswordResponse } from './md5.ts';
export { tlsServerEndPoint } from './channel-binding.ts';
