import { describe, expect, it } from 'vitest';
import { Anonymizer } from '../src/anonymize.js';

const KEY = 'canary-anon-Zq8xW2pL';

describe('the anonymizer of saved answers', () => {
  it('replaces ids, names and emails by stable placeholders, and keeps the shape', () => {
    const a = new Anonymizer([KEY]);
    const out = a.json({
      total: 2,
      items: [
        { uuid: 'ws-aaa', name: 'Finance', description: 'Jane Doe’s team', members_count: 3, is_default: true, spend_limit: { value: 10 } },
        { uuid: 'ws-bbb', name: 'Legal', description: null, members_count: 1, is_default: false },
      ],
      data: [
        { user_id: 'u-1', email: 'Jane.Doe@corp.example', messages_count: 4, workspace_id: 'ws-aaa' },
        { userId: 'u-2', user_email: 'joe@corp.example', messages_count: '5', agent_id: 17, key_id: 'k-1' },
        { user_id: 'u-1', full_name: 'Jane Doe', created_by: 'jane.doe@corp.example' },
      ],
    });
    expect(out).toEqual({
      total: 2,
      items: [
        { uuid: 'id-0001', name: 'name-0001', description: 'text-0001', members_count: 3, is_default: true, spend_limit: { value: 10 } },
        { uuid: 'id-0002', name: 'name-0002', description: null, members_count: 1, is_default: false },
      ],
      data: [
        { user_id: 'id-0003', email: 'user-0001@example.invalid', messages_count: 4, workspace_id: 'id-0001' },
        { userId: 'id-0004', user_email: 'user-0002@example.invalid', messages_count: '5', agent_id: 1, key_id: 'id-0005' },
        { user_id: 'id-0003', full_name: 'name-0003', created_by: 'user-0001@example.invalid' },
      ],
    });
  });

  it('finds emails and UUIDs anywhere, in values and keys, and removes the key', () => {
    const a = new Anonymizer([KEY]);
    const uuid = '3F2504E0-4F89-11D3-9A0C-0305E82C3301';
    const out = JSON.stringify(
      a.json({
        note: `ask admin@corp.example about ${uuid}`,
        by_user: { [uuid.toLowerCase()]: 3, 'ops@corp.example': 1 },
        echoed: `Bearer ${KEY}`,
        [KEY]: 1,
      }),
    );
    expect(out).toBe(
      JSON.stringify({
        note: 'ask user-0001@example.invalid about id-0001',
        by_user: { 'id-0001': 3, 'user-0002@example.invalid': 1 },
        echoed: 'Bearer [REDACTED]',
        '[REDACTED]': 1,
      }),
    );
  });

  it('removes the keys GET api-keys lists, masked or whole, and keeps the rest of their shape', () => {
    const a = new Anonymizer([KEY]);
    const out = a.json({
      keys: [
        { key_id: '3f2504e0-4f89-11d3-9a0c-0305e82c3301', key: null, hidden_key: 'HQSx...Ug6Y', name: 'Production', product: 'API' },
        { key_id: 'other', key: 'HQSxfB7IaJRKNHRv0e5OAYJNO1h2Ug6Y', hidden_key: '', name: null, product: null },
      ],
    });
    expect(out).toEqual({
      keys: [
        { key_id: 'id-0001', key: null, hidden_key: '[REDACTED]', name: 'name-0001', product: 'API' },
        { key_id: 'id-0002', key: '[REDACTED]', hidden_key: '[REDACTED]', name: null, product: null },
      ],
    });
    expect(JSON.stringify(out)).not.toMatch(/HQSx|Ug6Y/);
  });

  it("keeps the API's own names (models, tools, billing display names)", () => {
    const a = new Anonymizer([]);
    const row = {
      billing_metric: 'mistral-large-2411',
      billing_display_name: 'Mistral Large 24.11',
      tool_name: 'read_file',
      model_name: 'devstral',
    };
    expect(a.json(row)).toEqual(row);
  });

  it('gives a configured workspace id the placeholder its answers get', () => {
    const a = new Anonymizer([]);
    expect(a.id('ws-aaa')).toBe('id-0001');
    expect(a.json({ workspace_id: 'ws-aaa' })).toEqual({ workspace_id: 'id-0001' });
  });
});
