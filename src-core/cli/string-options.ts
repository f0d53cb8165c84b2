// parseArgs options that each take a string value: stringOptions('out', 'model') is
// { out: { type: 'string' }, model: { type: 'string' } }, typed so that parseArgs infers string values.
export function stringOptions<const N extends string>(...names: N[]): { [K in N]: { type: 'string' } } {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as { [K in N]: { type: 'string' } };
}
