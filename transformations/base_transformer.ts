// The base class transformer files extend, as the PyFlink job's transformations/base_transformer.py:
// `import { BaseTransformer } from './base_transformer.js';`
export { BaseTransformer, type Row, type TransformContext, type Transformer } from '../src/transform/transformer.js';
