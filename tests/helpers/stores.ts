// Stores a test opens on its database, remembered so that they can all be closed after it.
import { openStore, type Store, type StoreOptions } from '../../src/store/store.ts';

/** Opens stores on the database at `file()` (a test's own, set before each test) and closes them all at `closeAll`. */
export function storeOpener(file: () => string): { stores: Store[]; open: (options?: StoreOptions) => Promise<Store>; closeAll: () => Promise<void> } {
  const stores: Store[] = [];
  return {
    stores,
    open: async (options = {}) => {
      const store = await openStore({ path: file() }, options);
      stores.push(store);
      return store;
    },
    closeAll: async () => {
      for (const store of stores.splice(0)) await store.close();
    },
  };
}
