// An ESLint rule that keeps imports running one way between the folders of src/ (README, "How the code is laid
// out"). It resolves every module specifier, static or dynamic (`import()`, `export … from`), to the file it names,
// so `./../cli/x.js` and `../../src/cli/x.js` are the same import as `../cli/x.js`.
import { dirname, relative, resolve, sep } from 'node:path';

/** The layer of a file: its folder under src/ (src/config.ts and src/config-issues.ts are "config"), or null outside src/. */
function layerOf(file, srcDir) {
  const path = relative(srcDir, file);
  if (path.startsWith('..') || path === '') return null;
  const [first, ...rest] = path.split(sep);
  if (rest.length > 0) return first;
  const name = first.replace(/\.(ts|js)$/, '');
  return name === 'config-issues' ? 'config' : name;
}

/**
 * options: { srcDir, forbidden: { layer: [layers it may not import] }, packages: { layer: RegExp source of the
 * packages it may import } (absent: any), valuesFrom: { layer: [the only layers it may import values from; from
 * the others, types only] } (absent: any), packageWhy: { layer: why other packages are not allowed } }
 */
export const importLayers = {
  meta: {
    type: 'problem',
    schema: [{ type: 'object', additionalProperties: true }],
    messages: {
      forbidden:
        'Imports go one way only (README, "How the code is laid out"): {{from}} may not import from {{to}} ({{specifier}}).',
      typeOnly: '{{from}} may import only types from {{to}} ({{specifier}}): use `import type`.',
      package: '{{from}} may not import the package {{specifier}}: {{why}}',
      dynamic: '{{from}} may not import a module whose name is computed: the layers cannot be checked.',
    },
  },
  create(context) {
    const { srcDir, forbidden = {}, packages = {}, valuesFrom = {}, packageWhy = {} } = context.options[0] ?? {};
    const file = context.filename;
    const from = layerOf(file, srcDir);
    if (from === null) return {};
    const allowedPackages = packages[from] ? new RegExp(packages[from]) : null;

    function check(node, source, isTypeOnly) {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') {
        if (allowedPackages || forbidden[from]?.length)
          context.report({ node, messageId: 'dynamic', data: { from: `src/${from}` } });
        return;
      }
      const specifier = source.value;
      if (!specifier.startsWith('.')) {
        if (allowedPackages && !allowedPackages.test(specifier))
          context.report({
            node,
            messageId: 'package',
            data: { from: `src/${from}`, specifier, why: packageWhy[from] ?? 'not allowed here' },
          });
        return;
      }
      const to = layerOf(resolve(dirname(file), specifier), srcDir);
      if (to === from) return;
      const target = to === null ? 'outside src/' : `src/${to}`;
      if (to === null || forbidden[from]?.includes(to)) {
        context.report({ node, messageId: 'forbidden', data: { from: `src/${from}`, to: target, specifier } });
      } else if (valuesFrom[from] && !valuesFrom[from].includes(to) && !isTypeOnly) {
        context.report({ node, messageId: 'typeOnly', data: { from: `src/${from}`, to: target, specifier } });
      }
    }

    const typeOnlyImport = (node) =>
      node.importKind === 'type' ||
      (node.specifiers?.length > 0 && node.specifiers.every((specifier) => specifier.importKind === 'type'));
    return {
      ImportDeclaration: (node) => check(node, node.source, typeOnlyImport(node)),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source, node.exportKind === 'type'),
      ExportAllDeclaration: (node) => check(node, node.source, node.exportKind === 'type'),
      ImportExpression: (node) => check(node, node.source, false),
    };
  },
};
