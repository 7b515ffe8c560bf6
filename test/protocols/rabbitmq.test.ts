/**
 * RabbitMQ end to end: amqplib speaks AMQPS with SNI from the first byte → edge router (routes by
 * SNI) → acme's sidecar (terminates TLS) → rabbitmq-server on plain AMQP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { startEdge, type Edge } from '../support/edge.ts';
import { startRabbitmq, type RunningServer } from '../support/servers.ts';

describe('RabbitMQ (AMQPS) through the edge router and the sidecar', () => {
  let edge: Edge;
  let rabbitmq: RunningServer;

  before(async () => {
    rabbitmq = await startRabbitmq();
    edge = await startEdge();
    await edge.addService({ hostname: 'mq.acme.test', appPort: rabbitmq.port, protocol: 'tls' });
  });

  after(async () => {
    await edge?.close();
    await rabbitmq?.close();
  });

  it('publishes and consumes a message', async () => {
    const connection = await amqp.connect(`amqps://guest:guest@127.0.0.1:${edge.tlsPort}/`, { servername: 'mq.acme.test', ca: [edge.world.root.certificate] });
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('hello through the sidecar'));
      let message: amqp.GetMessage | false = false;
      for (let attempt = 0; attempt < 50 && message === false; attempt += 1) {
        message = await channel.get(queue, { noAck: true });
        if (message === false) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(message !== false, 'the message came back');
      assert.equal(message.content.toString(), 'hello through the sidecar');
      await channel.close();
    } finally {
      await connection.close();
    }
  });
});
