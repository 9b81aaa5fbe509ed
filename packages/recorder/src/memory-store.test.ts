import { createMemoryStore } from './memory-store.js';
import { describeTapeStore } from './testing.js';

describeTapeStore(() => createMemoryStore(), { name: 'createMemoryStore' });
