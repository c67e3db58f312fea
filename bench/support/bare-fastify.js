/* global require, process */
/**
 * The ceiling of a benchmark: a bare Fastify process answering every POST and GET with a fixed body
 * (BARE_BODY_FILE, BARE_CONTENT_TYPE) on BARE_PORT, so the client and the server under test pay the
 * same process and network costs as the real API.
 */
const Fastify = require('fastify');
const { readFileSync } = require('node:fs');

const body = readFileSync(process.env.BARE_BODY_FILE);
const contentType = process.env.BARE_CONTENT_TYPE || 'application/json; charset=utf-8';
const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, raw, done) => {
  try {
    done(null, JSON.parse(raw));
  } catch (err) {
    done(err);
  }
});
const handler = async (_req, reply) => reply.header('content-type', contentType).send(body);
app.post('/*', handler);
app.get('/*', handler);
app.listen({ port: Number(process.env.BARE_PORT), host: '127.0.0.1' }).then(() => process.stdout.write('listening\n'));
