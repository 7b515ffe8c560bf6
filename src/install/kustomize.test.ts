import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { locateBinaries } from '../devcluster/index.ts';
import { allObjects, genericPlatformOptions, platformManifests } from './manifests.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const key = (o: { apiVersion?: string; kind?: string; metadata?: { namespace?: string; name?: string } }) => `${o.apiVersion}/${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const byKey = <T extends Parameters<typeof key>[0]>(objects: T[]) => new Map(objects.map((o) => [key(o), o]));

describe('deploy/ kustomization', () => {
  it('renders with Kubernetes 1.20\u2019s kubectl kustomize to exactly the objects of the generic installation', () => {
    const output = execFileSync(locateBinaries().kubernetes.kubectl, ['kustomize', path.join(root, 'deploy')], { encoding: 'utf8' });
    const rendered = byKey(parseAllDocuments(output).map((document) => document.toJS() as Parameters<typeof key>[0]).filter((o) => o !== null));
    const expected = byKey(JSON.parse(JSON.stringify(allObjects(platformManifests(genericPlatformOptions)))) as Array<Parameters<typeof key>[0]>);
    assert.deepEqual([...rendered.keys()].sort(), [...expected.keys()].sort());
    for (const [name, object] of expected) assert.deepEqual(rendered.get(name), object, name);
  });
});
