/**
 * ts-jest, plus one rewrite for the ES-module-only packages Jest must turn into CommonJS on Node 20
 * (NestJS 12 among them): `import.meta.url` has no CommonJS equivalent in the emitted code, so it is
 * replaced by the file URL of the module being transformed.
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
  return (
    source
      // `const require = createRequire(import.meta.url)` (e.g. @nestjs/terminus) would redeclare CommonJS's own require.
      .replace(/^const require = createRequire\(import\.meta\.url\);?[ \t]*$/gm, '')
      .replace(/import\.meta\.resolve\(/g, 'require.resolve(')
      .replace(/import\.meta\.url/g, 'require("node:url").pathToFileURL(__filename).href')
      .replace(/import\.meta\.dirname/g, '__dirname')
  );
}

module.exports = { createTransformer: (config) => new Transformer(config) };
