-- lastmod from the sitemap that listed a URL, unix ms.
ALTER TABLE frontier ADD COLUMN lastmod INTEGER;
