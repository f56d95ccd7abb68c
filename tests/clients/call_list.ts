// One list call through an SDK that @hey-api/openapi-ts generated from the API's OpenAPI
// document, made as an application makes it: the SDK's function, its fetch client, a bearer token.
// Run by tests/clients/test_generated_clients.py with tsx:
//
//   tsx call_list.ts <sdk dir> <base URL> <token> <SDK function> <query as JSON>
//
// Prints one line of JSON: the response's status, the URL the client requested, the ids of
// the results (null unless a page came back) and the body when it is not a page.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

async function main(): Promise<void> {
  const [sdkDir, baseUrl, token, functionName, queryJson] = process.argv.slice(2);
  const sdk = await import(pathToFileURL(join(sdkDir, 'index.ts')).href);
  const { createClient, createConfig } = await import(pathToFileURL(join(sdkDir, 'client', 'index.ts')).href);

  const list = sdk[functionName];
  if (typeof list !== 'function') {
    throw new Error(`the generated SDK has no function ${functionName}`);
  }
  const client = createClient(createConfig({ baseUrl, auth: token }));
  const { data, error, request, response } = await list({ client, query: JSON.parse(queryJson) });
  const results = (data as { results?: { id: string }[] } | undefined)?.results;
  console.log(
    JSON.stringify({
      status: response.status,
      url: request.url,
      ids: results ? results.map((row) => String(row.id)) : null,
      count: (data as { count?: number } | undefined)?.count ?? null,
      body: results ? null : (error ?? data ?? null),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
