/* Skeleton; the dump-side issue fills it in. */
int hotcache_plugin_skeleton(void);
int hotcache_plugin_skeleton(void) { return 0; }
