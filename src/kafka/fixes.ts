/**
 * The gateway's fixes to kafkajs' private internals (docs/adr/0008-private-internals.md), in one
 * import. Import it before `kafkajs` in every module that loads kafkajs: the produce fix replaces
 * modules that kafkajs captures when it loads.
 */
import './produce-fix';
// After produce-fix: the produce request it keeps for compressed batches captures the record encoder.
import './produce-request-fix';
import './encoder-fix';
import './request-queue-fix';
