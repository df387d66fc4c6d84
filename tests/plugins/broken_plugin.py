"""A plugin that fails on import, to show the others keep working."""
raise ImportError("this plugin is broken on purpose (missing dependency 'nosuchlib')")
