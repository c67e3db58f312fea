/** The ceiling of bench/ingest: a bare Fastify server answering the beacon route with 204, nothing else. */
const fastify = require('fastify')({ logger: false });

fastify.get('/t/:event', (request, reply) => {
  reply.code(204).send();
});

fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then(() => process.stdout.write('bare server listening\n'));
