/**
 * Exact modular arithmetic on plain numbers. Every modulus used here is below 2 ** 26, so a
 * product of two residues stays below 2 ** 52 and is exact in a double: no BigInt needed, and
 * the hot path (one exponentiation per handshake) stays cheap.
 */

/**
 * `base ** exponent mod modulus` by square-and-multiply.
 * Expects `modulus` in `2..2 ** 26`, `base >= 0` and a non-negative safe integer `exponent`.
 */
export function modPow(base: number, exponent: number, modulus: number): number {
  let result = 1;
  let square = base % modulus;
  let rest = exponent;
  // Division rather than `>>` because exponents may exceed 2 ** 31.
  while (rest > 0) {
    if (rest % 2 === 1) result = (result * square) % modulus;
    square = (square * square) % modulus;
    rest = Math.floor(rest / 2);
  }
  return result % modulus;
}

/** Whether `n` (an integer below 2 ** 26) is prime, by trial division up to its square root. */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let divisor = 3; divisor * divisor <= n; divisor += 2) {
    if (n % divisor === 0) return false;
  }
  return true;
}

/** The distinct prime factors of `n >= 1`, ascending, by trial division. */
export function distinctPrimeFactors(n: number): number[] {
  const factors: number[] = [];
  let rest = n;
  for (let divisor = 2; divisor * divisor <= rest; divisor += divisor === 2 ? 1 : 2) {
    if (rest % divisor !== 0) continue;
    factors.push(divisor);
    while (rest % divisor === 0) rest /= divisor;
  }
  if (rest > 1) factors.push(rest);
  return factors;
}

/**
 * The multiplicative order of `element` modulo the prime `prime`: the least `k >= 1` with
 * `element ** k = 1`. It divides `prime - 1` (Lagrange), so starting from `prime - 1` and
 * dividing out each prime factor while the power stays 1 finds it in a few exponentiations.
 */
export function multiplicativeOrder(element: number, prime: number): number {
  let order = prime - 1;
  for (const factor of distinctPrimeFactors(prime - 1)) {
    while (order % factor === 0 && modPow(element, order / factor, prime) === 1) {
      order /= factor;
    }
  }
  return order;
}
