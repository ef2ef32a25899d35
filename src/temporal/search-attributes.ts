import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/**
 * Search attributes operators filter on in Temporal UI (registered by scripts/stack.sh and compose).
 * No I/O here: workflows set them too.
 */
export const GatewayOperation = defineSearchAttributeKey('GatewayOperation', SearchAttributeType.KEYWORD);
export const GatewayUserId = defineSearchAttributeKey('GatewayUserId', SearchAttributeType.KEYWORD);
export const GatewayOrgId = defineSearchAttributeKey('GatewayOrgId', SearchAttributeType.KEYWORD);
export const GatewayRequestId = defineSearchAttributeKey('GatewayRequestId', SearchAttributeType.KEYWORD);
