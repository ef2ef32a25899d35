import { timingSafeEqual } from 'node:crypto';
import { sha256Bytes } from './hash';

/** Compares two secrets in constant time (hashing first makes the lengths equal, so length leaks nothing). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256Bytes(a), sha256Bytes(b));
}
