import { BaseTransformer } from './base_transformer.js';

/** Raw bid events with the epoch-millisecond timestamp turned into a timestamp. */
export class BidEventsRawTransformer extends BaseTransformer {
  getTransformationSql(sourceTable: string): string {
    return `
      SELECT
        event_name,
        user_id,
        city_id,
        platform,
        session_id,
        TO_TIMESTAMP_LTZ(timestamp_ms, 3) AS event_time,
        CURRENT_TIMESTAMP AS ingestion_time
      FROM ${sourceTable}
    `;
  }
}
