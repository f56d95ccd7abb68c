// What an application writes against the TypeScript SDK that @hey-api/openapi-ts generates from
// the API's OpenAPI document, type-checked by `make openapi-lint` (tests/clients/openapi_check.py):
// copied beside the generated `sdk/` and compiled with `tsc --noEmit` under `strict`, never run
// (tests/clients/test_generated_clients.py runs calls against a live server).
//
// It fails when the document stops giving a client the types it needs: a response typed as
// unknown, an enum widened to string, a required field made optional. The `@ts-expect-error`
// lines must stay errors: they prove the types are checked, not `any`.
import { createClient, createConfig } from './sdk/client';
import {
  type AiModel,
  type Error as ApiError,
  modelsCreate,
  modelsList,
  modelsPartialUpdate,
  modelsResolved,
  type PromptParticle,
  promptParticlesCreate,
  type UserModelWriteRequest,
} from './sdk';

const client = createClient(createConfig({ baseUrl: 'https://registry.example.com', auth: 'a bearer token' }));

export async function largestSystemModels(): Promise<AiModel[]> {
  const { data, error } = await modelsList({
    client,
    query: { ordering: ['-contextWindow', 'name'], isSystem: true, supportsTools: true, limit: 10, offset: 0 },
  });
  if (error) {
    const failure: ApiError = error;
    throw new Error(`${failure.status} ${failure.code}: ${failure.detail}`);
  }
  const total: number = data.count;
  const windows: number[] = data.results.map((model) => model.contextWindow);
  console.log(total, windows, data.next ?? 'last page');
  return data.results;
}

export async function createResolveAndRename(parent: AiModel): Promise<string> {
  const body: UserModelWriteRequest = { parentId: parent.id, name: 'Support', contextWindow: 8192, maxTokens: 1024 };
  const created = await modelsCreate({ client, body, headers: { 'Idempotency-Key': 'create-support-1' } });
  if (created.error) {
    // Field errors are keyed by the camelCase field name.
    const contextWindowErrors: string[] | undefined = created.error.errors?.['contextWindow'];
    throw new Error(contextWindowErrors?.join(' ') ?? created.error.detail);
  }
  const model: AiModel = created.data;
  const etag: string | null | undefined = created.response?.headers.get('ETag');

  const resolved = await modelsResolved({ client, path: { id: model.slug } });
  if (resolved.error) {
    throw new Error(resolved.error.detail);
  }
  const source: 'override' | 'composition' | 'none' = resolved.data.systemPromptSource;
  const prompt: string | null = resolved.data.systemPrompt;

  const renamed = await modelsPartialUpdate({
    client,
    path: { id: model.id },
    body: { name: 'Support (large)' },
    headers: etag ? { 'If-Match': etag } : undefined,
  });
  if (renamed.error) {
    throw new Error(renamed.error.detail);
  }
  return `${renamed.data.name}: ${source} prompt of ${prompt?.length ?? 0} characters`;
}

export async function addTone(): Promise<PromptParticle | undefined> {
  const { data } = await promptParticlesCreate({
    client,
    body: { kind: 'tone', name: 'Friendly', content: 'Be warm and concise.' },
  });
  return data;
}

export function theTypesAreChecked(model: AiModel): void {
  // @ts-expect-error: ordering takes the documented keys only
  void modelsList({ client, query: { ordering: ['price'] } });
  // @ts-expect-error: a boolean filter is a boolean
  void modelsList({ client, query: { isSystem: 'yes' } });
  // @ts-expect-error: a particle's kind is one of the documented kinds
  void promptParticlesCreate({ client, body: { kind: 'mood', name: 'x', content: 'y' } });
  // @ts-expect-error: parentId and name are required to create a model
  void modelsCreate({ client, body: { contextWindow: 8192 } });
  // @ts-expect-error: the response's contextWindow is a number
  const window: string = model.contextWindow;
  void window;
}
