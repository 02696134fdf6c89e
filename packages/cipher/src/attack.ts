import { assertBytes, assertFunction } from './assert.ts';
import { caesarDecrypt } from './caesar.ts';
import { validatePublicKey } from './diffie-hellman.ts';
import { checkedGroupOrder, type DhGroup, SEED_GROUP } from './group.ts';
import { modPow } from './modular-arithmetic.ts';

/**
 * What an eavesdropper can do with the seed's scheme, kept in the package so that its
 * weakness is shown by tested code rather than asserted in prose.
 */

/**
 * Every element of the subgroup the generator spans, indexed by exponent:
 * `subgroupElements(group)[k] === generator ** k mod prime`. Its length is
 * {@link generatorOrder}: 64 for the seed's group, i.e. every public key and every shared
 * secret that can ever occur. Meant for small groups: the array has one entry per element.
 *
 * @example
 * ```ts
 * const keys = subgroupElements();
 * keys.length; // 64
 * keys.slice(0, 4); // [1, 11, 121, 46]
 * ```
 */
export function subgroupElements(group: DhGroup = SEED_GROUP): number[] {
  const order = checkedGroupOrder(group);
  const elements = new Array<number>(order);
  let element = 1;
  for (let exponent = 0; exponent < order; exponent++) {
    elements[exponent] = element;
    element = (element * group.generator) % group.prime;
  }
  return elements;
}

/**
 * The discrete logarithm of `publicKey`: the least `x >= 0` with `generator ** x = publicKey`,
 * found by walking the subgroup (at most 64 steps in the seed's group). Throws
 * {@link InvalidPublicKeyError} when `publicKey` is no power of the generator; degenerate
 * keys are fine (log 1 = 0).
 *
 * @example
 * ```ts
 * discreteLog(11); // 1
 * discreteLog(publicKeyFor(1000)); // 40, because 1000 = 15 * 64 + 40
 * ```
 */
export function discreteLog(publicKey: number, group: DhGroup = SEED_GROUP): number {
  validatePublicKey(publicKey, group, { allowDegenerate: true });
  // Validation proved `publicKey` lies in the subgroup, so this walk ends within its order.
  let element = 1;
  let exponent = 0;
  while (element !== publicKey) {
    element = (element * group.generator) % group.prime;
    exponent++;
  }
  return exponent;
}

/**
 * The eavesdropper's attack: from the two public keys seen on the wire, the shared secret both
 * sides computed. It finds an `x` with `generator ** x = publicA` ({@link discreteLog}) and
 * returns `publicB ** x mod prime`; `x` agrees with A's private key modulo the generator's
 * order, and `publicB` lies in that subgroup, so this is exactly A's (and B's) secret.
 *
 * @example
 * ```ts
 * const a = createKeyPair();
 * const b = createKeyPair();
 * recoverSharedKey(a.publicKey, b.publicKey) === deriveSharedKey(a.privateKey, b.publicKey); // true
 * ```
 */
export function recoverSharedKey(
  publicA: number,
  publicB: number,
  group: DhGroup = SEED_GROUP,
): number {
  validatePublicKey(publicB, group, { allowDegenerate: true });
  const exponent = discreteLog(publicA, group);
  return modPow(publicB, exponent, group.prime);
}

/**
 * Brute force on the cipher alone: tries all 256 Caesar keys and returns, ascending, those
 * whose decryption `isPlainText` accepts. With a good test and a few bytes, one key is left.
 *
 * @example
 * ```ts
 * const cipherText = caesarEncrypt(new TextEncoder().encode('TIME'), 183);
 * const commands = ['TIME', 'DATE', 'TEMP'];
 * recoverCaesarKeys(cipherText, (bytes) => commands.includes(new TextDecoder().decode(bytes)));
 * // [183]
 * ```
 */
export function recoverCaesarKeys(
  cipherText: Uint8Array,
  isPlainText: (candidate: Uint8Array, key: number) => boolean,
): number[] {
  assertBytes(cipherText, 'cipherText');
  assertFunction(isPlainText, 'isPlainText');
  const keys: number[] = [];
  for (let key = 0; key < 256; key++) {
    if (isPlainText(caesarDecrypt(cipherText, key), key)) keys.push(key);
  }
  return keys;
}
