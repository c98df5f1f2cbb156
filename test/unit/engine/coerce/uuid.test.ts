import { describe, expect, it } from 'vitest';
import { typed } from './run-coercer.js';

const uuid = typed('uuid');
const CANONICAL = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

describe('uuid', () => {
  it.each([
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    'a0eebc999c0b4ef8bb6d6bb9bd380a11',
    '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
    '{A0EEBC999C0B4EF8BB6D6BB9BD380A11}',
    '  a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ',
  ])('%j → canonical', (input) => {
    expect(uuid(input)).toEqual({ ok: CANONICAL });
  });

  it.each([
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g',
    'a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11',
    'a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11',
    'a0eebc999c0b4ef8bb6d6bb9bd380a1-',
    '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '(a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11)',
    '{}',
    'not-a-uuid',
  ])('rejects %j', (input) => {
    expect(uuid(input)).toEqual({ error: 'not a valid UUID' });
  });
});
