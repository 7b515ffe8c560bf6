/**
 * Where landlord's image (src/devcluster/image) holds Node.js and the CLI: its entrypoint, and what
 * a container `command` that adds node flags must name (src/install/manifests.ts).
 */
export const landlordEntrypoint = { node: '/usr/local/bin/node', cli: '/app/src/cli/main.ts' } as const;
