// Streams one LLM answer through an instrumented fetch and prints its Jaeger link.
// The upstream is a stand-in on 127.0.0.1 streaming an OpenResponses answer, so no API key is
// needed. Build first (the quick start's demo does), start Jaeger (`docker compose up -d`), then:
//   node packages/otel/examples/stream-to-jaeger.mjs
import { createServer } from 'node:http';
import { instrumentFetch } from '@tapedeck/otel';
import { setupTracing } from '@tapedeck/otel/setup';

const tracing = setupTracing({ serviceName: 'tapedeck-example' });

const words = ['Paris', ' is', ' the', ' capital', ' of', ' France', '.'];
const response = { id: 'resp_example', object: 'response', model: 'openai/gpt-4o-mini' };
const item = { type: 'message', id: 'msg_example', role: 'assistant', content: [] };
const where = { item_id: item.id, output_index: 0, content_index: 0 };
let sequence = 0;
const event = (type, payload) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...payload })}\n\n`;

const server = createServer(async (_request, reply) => {
  sequence = 0;
  reply.writeHead(200, { 'content-type': 'text/event-stream' });
  reply.write(event('response.created', { response: { ...response, status: 'in_progress' } }));
  reply.write(event('response.output_item.added', { output_index: 0, item }));
  for (const word of words) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    reply.write(event('response.output_text.delta', { ...where, delta: word }));
  }
  reply.write(event('response.output_item.done', { output_index: 0, item }));
  const usage = { input_tokens: 12, output_tokens: words.length, total_tokens: 12 + words.length };
  reply.end(event('response.completed', { response: { ...response, status: 'completed', usage } }));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const tracedFetch = instrumentFetch(fetch, {
  onStreamEnd: ({ jaegerUrl, endReason }) => console.log(`\n${endReason}: ${jaegerUrl}`),
});
const answer = await tracedFetch(`http://127.0.0.1:${server.address().port}/v1/responses`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
  body: JSON.stringify({ model: 'openai/gpt-4o-mini', input: 'Capital of France?', stream: true }),
});
const decoder = new TextDecoder();
for await (const chunk of answer.body) {
  for (const line of decoder.decode(chunk, { stream: true }).split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = JSON.parse(line.slice(6));
    if (data.type === 'response.output_text.delta') process.stdout.write(data.delta);
  }
}

await tracing.shutdown();
server.close();
console.log(`spans sent to ${tracing.tracesUrl}`);
