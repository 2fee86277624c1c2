// Builds the catalog a configuration names. Apart from the interface (catalog.ts), which every
// implementation imports, so that the interface never imports its implementations.

import type { CatalogConfig } from '../config/types.js';
import type { Catalog } from './catalog.js';

/** Builds the catalog a config names. */
export async function createCatalog(config: CatalogConfig): Promise<Catalog> {
  switch (config.type) {
    case 'sql': {
      const { SqlCatalog } = await import('./catalog-sql.js');
      return new SqlCatalog(config);
    }
    case 's3tables': {
      const { S3TablesCatalog } = await import('./catalog-s3tables.js');
      return new S3TablesCatalog(config);
    }
    case 'rest': {
      const { RestCatalog } = await import('./catalog-rest.js');
      return RestCatalog.connect(config);
    }
  }
}
