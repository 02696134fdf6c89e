import { describe, expect, it } from 'vitest';
import * as cipher from './index.ts';

describe('the package entry point', () => {
  it('exports exactly the public API', () => {
    expect(Object.keys(cipher).sort()).toEqual([
      'CIPHER_ERROR_CODES',
      'CipherError',
      'InvalidGroupError',
      'InvalidPublicKeyError',
      'MAX_GROUP_PRIME',
      'NULL_CIPHER',
      'RandomSourceError',
      'SEED_GROUP',
      'SEED_PRIVATE_KEY_MAX',
      'WeakPublicKeyError',
      'caesarDecrypt',
      'caesarDecryptInPlace',
      'caesarEncrypt',
      'caesarEncryptInPlace',
      'caesarKeyFromSharedSecret',
      'caesarShiftLetters',
      'createCaesarCipher',
      'createKeyPair',
      'createSeedKeyPair',
      'deriveSharedKey',
      'discreteLog',
      'generatorOrder',
      'isInSubgroup',
      'isWeakSharedSecret',
      'normalizeCaesarKey',
      'publicKeyFor',
      'recoverCaesarKeys',
      'recoverSharedKey',
      'subgroupElements',
      'validateGroup',
      'validatePublicKey',
    ]);
  });

  it('runs a whole seed-style exchange through the public API', () => {
    const client = cipher.createKeyPair();
    const server = cipher.createKeyPair();
    const clientCipher = cipher.createCaesarCipher(
      cipher.caesarKeyFromSharedSecret(cipher.deriveSharedKey(client.privateKey, server.publicKey)),
    );
    const serverCipher = cipher.createCaesarCipher(
      cipher.caesarKeyFromSharedSecret(cipher.deriveSharedKey(server.privateKey, client.publicKey)),
    );
    const bytes = new TextEncoder().encode('DATE');
    clientCipher.encrypt(bytes);
    serverCipher.decrypt(bytes);
    expect(new TextDecoder().decode(bytes)).toBe('DATE');
  });
});
