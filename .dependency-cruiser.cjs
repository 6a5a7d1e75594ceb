// The import rules of the layers (design.md section 2): each folder under src/ may import only the layers
// listed for it, and nothing in src/ except cli/ may import sim/.
const layer = (name, allowed) => ({
  name: `${name}-imports`,
  comment: `src/${name} may import only: ${allowed.join(', ') || 'nothing internal'}`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: '^(src|sim)/', pathNot: [`^src/${name}/`, ...allowed.map((a) => (a === 'sim' ? '^sim/' : `^src/${a}/`))] },
});

module.exports = {
  forbidden: [
    layer('core', []),
    layer('mail', ['core']),
    layer('codec', ['core']),
    layer('link', ['core', 'codec']),
    layer('queue', ['core', 'mail']),
    layer('smtp', ['core', 'mail', 'queue']),
    layer('relay', ['core', 'mail', 'queue']),
    layer('profiles', ['core']),
    layer('gateway', ['core', 'mail', 'codec', 'link', 'queue', 'smtp', 'relay', 'profiles']),
    layer('cli', ['gateway', 'sim']),
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
