import { BaseTransformer } from './base_transformer.js';

/** User events with `is_mobile` derived from the device type. */
export class UserEventsEnrichedTransformer extends BaseTransformer {
  getTransformationSql(sourceTable: string): string {
    return `
      SELECT
        \`event_type\`,
        \`user_id\`,
        \`page_url\`,
        \`device_type\`,
        \`session_id\`,
        CASE
          WHEN LOWER(\`device_type\`) IN ('ios', 'android', 'mobile') THEN TRUE
          ELSE FALSE
        END AS \`is_mobile\`,
        TO_TIMESTAMP_LTZ(\`timestamp_ms\`, 3) AS \`event_time\`,
        CURRENT_TIMESTAMP AS \`ingestion_time\`
      FROM ${sourceTable}
    `;
  }
}
