import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { webhookConfigurations } from './configurations.ts';

type Webhook = { name: string; failurePolicy: string; sideEffects: string; namespaceSelector?: unknown; objectSelector?: unknown; clientConfig: { url?: string; caBundle: string } };

describe('webhook configurations', () => {
  const { mutating, validating } = webhookConfigurations({ client: { url: 'https://127.0.0.1:8443', caPem: 'CA' } });
  const webhooks = [...(mutating.webhooks as Webhook[]), ...(validating.webhooks as Webhook[])];

  it('fails closed, has no side effects and points at the right path', () => {
    for (const webhook of webhooks) {
      assert.equal(webhook.failurePolicy, 'Fail', webhook.name);
      assert.equal(webhook.sideEffects, 'None', webhook.name);
      assert.match(webhook.clientConfig.url ?? '', /^https:\/\/127\.0\.0\.1:8443\/(mutate|validate)$/);
      assert.equal(webhook.clientConfig.caBundle, Buffer.from('CA').toString('base64'));
    }
  });

  it('selects only objects or namespaces carrying the tenant label, so platform namespaces are never called', () => {
    const tenantLabel = { matchExpressions: [{ key: 'landlord.dev/tenant', operator: 'Exists' }] };
    for (const webhook of webhooks) {
      const selector = webhook.name.startsWith('namespaces.') ? webhook.objectSelector : webhook.namespaceSelector;
      assert.deepEqual(selector, tenantLabel, webhook.name);
    }
  });

  it('narrows to named tenants when asked', () => {
    const { validating: narrowed } = webhookConfigurations({ client: { url: 'https://127.0.0.1:1', caPem: '' }, tenants: ['acme'] });
    assert.deepEqual((narrowed.webhooks as Webhook[])[0]?.namespaceSelector, { matchExpressions: [{ key: 'landlord.dev/tenant', operator: 'In', values: ['acme'] }] });
  });

  it('refuses a client with neither url nor service', () => {
    assert.throws(() => webhookConfigurations({ client: { caPem: '' } }), (error) => isLandlordError(error, 'LL_ADMISSION_CLIENT_MISSING'));
  });

});
