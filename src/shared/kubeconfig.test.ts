import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isLandlordError } from './errors.ts';
import { inClusterCredentials, loadCredentials, loadKubeconfigFile, parseKubeconfig, type KubeconfigEntry } from './kubeconfig.ts';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A kubeconfig with one context `ctx`, cluster `c` and user `u`. */
function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'ctx',
    clusters: [{ name: 'c', cluster }], users: [{ name: 'u', user }], contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    ...extra,
  });
}

const parses: Array<{ name: string; text: string; context?: string; expected: KubeconfigEntry }> = [
  {
    name: 'decodes inline certificate authority, client certificate and key',
    text: kubeconfig({ server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64('CA') }, { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') }),
    expected: { server: 'https://127.0.0.1:6443', ca: 'CA', cert: 'CERT', key: 'KEY' },
  },
  {
    name: 'resolves file names relative to the kubeconfig directory and keeps absolute ones',
    text: kubeconfig({ server: 'https://k:6443', 'certificate-authority': 'pki/ca.crt' }, { 'client-certificate': '/etc/u.crt', 'client-key': '../u.key', tokenFile: 'token' }),
    expected: { server: 'https://k:6443', caFile: '/home/a/.kube/pki/ca.crt', certFile: '/etc/u.crt', keyFile: '/home/a/u.key', tokenFile: '/home/a/.kube/token' },
  },
  {
    name: 'keeps a bearer token and insecure-skip-tls-verify',
    text: kubeconfig({ server: 'https://k:6443', 'insecure-skip-tls-verify': true }, { token: 'abc' }),
    expected: { server: 'https://k:6443', token: 'abc', insecureSkipTlsVerify: true },
  },
  {
    name: 'reads YAML, not only JSON',
    text: 'current-context: ctx\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:8080"}\ncontexts:\n- name: ctx\n  context: {cluster: c}\n',
    expected: { server: 'http://127.0.0.1:8080' },
  },
  {
    name: 'uses the named context rather than the current one',
    text: kubeconfig({ server: 'https://current:6443' }, {}, {
      clusters: [{ name: 'c', cluster: { server: 'https://current:6443' } }, { name: 'd', cluster: { server: 'https://other:6443' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }, { name: 'other', context: { cluster: 'd', user: 'u' } }],
    }),
    context: 'other',
    expected: { server: 'https://other:6443' },
  },
];

const rejects: Array<{ name: string; text: string; context?: string; code: string; message: RegExp }> = [
  { name: 'rejects malformed YAML', text: 'clusters: [\n  - name: c', code: 'LL_KUBECONFIG_INVALID', message: /not valid YAML/ },
  { name: 'rejects a document that is not a mapping', text: '- a\n- b\n', code: 'LL_KUBECONFIG_INVALID', message: /expected a mapping/ },
  { name: 'rejects a kubeconfig without a current-context', text: kubeconfig({ server: 'https://k' }, {}, { 'current-context': '' }), code: 'LL_KUBECONFIG_INVALID', message: /no current-context/ },
  { name: 'rejects a context that is not defined', text: kubeconfig({ server: 'https://k' }, {}), context: 'missing', code: 'LL_KUBECONFIG_INVALID', message: /no context named "missing"/ },
  { name: 'rejects a cluster without a server', text: kubeconfig({}, {}), code: 'LL_KUBECONFIG_INVALID', message: /cluster "c" has no server/ },
  { name: 'rejects a server that is not an http(s) URL', text: kubeconfig({ server: 'localhost:6443' }, {}), code: 'LL_KUBECONFIG_INVALID', message: /not an http\(s\) URL/ },
  { name: 'rejects a non-string certificate field', text: kubeconfig({ server: 'https://k', 'certificate-authority': 3 }, {}), code: 'LL_KUBECONFIG_INVALID', message: /certificate-authority must be a string/ },
  { name: 'rejects an exec credential plugin and says what to use instead', text: kubeconfig({ server: 'https://k' }, { exec: { command: 'aws' } }), code: 'LL_KUBECONFIG_AUTH_UNSUPPORTED', message: /exec credential plugin/ },
  { name: 'rejects an auth-provider plugin', text: kubeconfig({ server: 'https://k' }, { 'auth-provider': { name: 'oidc' } }), code: 'LL_KUBECONFIG_AUTH_UNSUPPORTED', message: /auth-provider/ },
  { name: 'rejects basic auth', text: kubeconfig({ server: 'https://k' }, { username: 'admin', password: 'secret' }), code: 'LL_KUBECONFIG_AUTH_UNSUPPORTED', message: /basic auth/ },
];

describe('parseKubeconfig', () => {
  for (const c of parses) {
    it(c.name, () => {
      assert.deepEqual(parseKubeconfig(c.text, { source: 'config', baseDir: '/home/a/.kube', ...(c.context ? { context: c.context } : {}) }), c.expected);
    });
  }
  for (const c of rejects) {
    it(c.name, () => {
      assert.throws(() => parseKubeconfig(c.text, { source: 'config', baseDir: '/', ...(c.context ? { context: c.context } : {}) }), (error) => {
        assert.ok(isLandlordError(error, c.code), `expected ${c.code}, got ${String(error)}`);
        assert.match(error.message, c.message);
        if (c.code === 'LL_KUBECONFIG_AUTH_UNSUPPORTED') assert.match(error.hint ?? '', /client certificate or a bearer token/);
        return true;
      });
    });
  }
});

describe('loading credentials', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'landlord-kubeconfig-'));
  const file = path.join(dir, 'config');
  writeFileSync(path.join(dir, 'ca.crt'), 'CA-FROM-FILE');
  writeFileSync(file, kubeconfig({ server: 'https://k:6443', 'certificate-authority': 'ca.crt' }, { token: 't' }));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the files a kubeconfig names, relative to its directory', () => {
    assert.deepEqual(loadKubeconfigFile(file), { server: 'https://k:6443', ca: 'CA-FROM-FILE', token: 't' });
  });

  it('takes the first file of KUBECONFIG when no file is given and not in a pod', () => {
    const env = { KUBECONFIG: `${file}${path.delimiter}/nonexistent`, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    assert.equal(loadCredentials(undefined, { inCluster: false, env }).server, 'https://k:6443');
  });

  it('falls back to ~/.kube/config and names the file it could not read', () => {
    assert.throws(() => loadCredentials(undefined, { inCluster: false, env: { HOME: dir } }), (error) => {
      assert.ok(isLandlordError(error, 'LL_KUBECONFIG_NOT_FOUND'));
      assert.match(error.message, new RegExp(`${dir}/.kube/config`));
      return true;
    });
  });

  it("uses a pod's service account: server from the environment, token file kept for re-reading", () => {
    const pod = mkdtempSync(path.join(dir, 'serviceaccount-'));
    writeFileSync(path.join(pod, 'token'), 'tok');
    writeFileSync(path.join(pod, 'ca.crt'), 'SA-CA');
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    assert.deepEqual(inClusterCredentials(env, pod), { server: 'https://[fd00::1]:443', ca: 'SA-CA', tokenFile: path.join(pod, 'token') });
  });

  it('reports when not inside a pod', () => {
    assert.throws(() => inClusterCredentials({}, dir), (error) => isLandlordError(error, 'LL_KUBECONFIG_NOT_FOUND'));
  });
});
