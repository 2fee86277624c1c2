import { BaseTransformer } from './base_transformer.js';

/** The PyFlink job's "Adding a New Transformation" example: keeps records whose field2 exceeds 100. */
export class NewTransformer extends BaseTransformer {
  getTransformationSql(sourceTable: string): string {
    return `
      SELECT
        field1,
        CURRENT_TIMESTAMP AS processed_time
      FROM ${sourceTable}
      WHERE field2 > 100
    `;
  }
}
