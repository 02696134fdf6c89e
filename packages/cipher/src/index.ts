export {
  discreteLog,
  recoverCaesarKeys,
  recoverSharedKey,
  subgroupElements,
} from './attack.ts';
export {
  type ByteCipher,
  type CaesarCipher,
  createCaesarCipher,
  NULL_CIPHER,
  type NullCipher,
} from './byte-cipher.ts';
export {
  caesarDecrypt,
  caesarDecryptInPlace,
  caesarEncrypt,
  caesarEncryptInPlace,
  caesarShiftLetters,
  normalizeCaesarKey,
} from './caesar.ts';
export {
  createKeyPair,
  type DeriveSharedKeyOptions,
  deriveSharedKey,
  isInSubgroup,
  type KeyPair,
  type PublicKeyOptions,
  publicKeyFor,
  validatePublicKey,
} from './diffie-hellman.ts';
export {
  CIPHER_ERROR_CODES,
  CipherError,
  type CipherErrorCode,
  InvalidGroupError,
  InvalidPublicKeyError,
  RandomSourceError,
  WeakPublicKeyError,
} from './errors.ts';
export {
  type DhGroup,
  generatorOrder,
  MAX_GROUP_PRIME,
  SEED_GROUP,
  validateGroup,
} from './group.ts';
export type { RandomSource } from './random.ts';
export {
  caesarKeyFromSharedSecret,
  createSeedKeyPair,
  isWeakSharedSecret,
  SEED_PRIVATE_KEY_MAX,
} from './seed.ts';
