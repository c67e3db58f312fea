/**
 * ts-jest, plus rewrites for the ES-module-only packages Jest must turn into CommonJS on Node 20
 * (NestJS 12 among them): `import.meta.url` has no CommonJS equivalent in the emitted code, so it is
 * replaced by the file URL of the module being transformed, `import.meta.resolve` by
 * `require.resolve`, and a module-level `const require = createRequire(import.meta.url)`
 * (@nestjs/typeorm) is dropped because CommonJS already provides that `require`.
 */
const { TsJestTransformer } = require('ts-jest');

class Transformer extends TsJestTransformer {
  process(source, path, options) {
    return super.process(rewrite(source, path), path, options);
  }

  processAsync(source, path, options) {
    return super.processAsync(rewrite(source, path), path, options);
  }

  getCacheKey(source, path, options) {
    return super.getCacheKey(rewrite(source, path), path, options);
  }
}

function rewrite(source, path) {
  if (!path.includes('/node_modules/') || !source.includes('import.meta')) return source;
  // `const require = createRequire(import.meta.url)` redeclares CommonJS's own `require`: drop it.
  return source.replace(/^const require = createRequire\(import\.meta\.url\);?$/m, '').replace(/import\.meta\.url/g, 'require("node:url").pathToFileURL(__filename).href').replace(/import\.meta\.dirname/g, '__dirname').replace(/import\.meta\.resolve\(/g, 'require.resolve(');
}

module.exports = { createTransformer: (config) => new Transformer(config) };
