// The XSLT stylesheet that Atom and RSS feeds reference, so that a person who opens a feed URL in a
// browser reads a page (what the feed is, how to subscribe, its entries) instead of raw XML.
// Entry HTML is not copied into the page: only text, so nothing in a feed can run in the browser. Browsers are
// removing XSLT: newsloom's own pages (pages/) do not rely on it; this stays for readers that still apply it.

export const STYLESHEET_TYPE = 'text/xsl; charset=utf-8';

export const STYLESHEET = `<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:dc="http://purl.org/dc/elements/1.1/" exclude-result-prefixes="atom dc">
<xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>

<xsl:template match="/">
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title><xsl:value-of select="atom:feed/atom:title | rss/channel/title"/> (feed)</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
.about{background:#f4f1e8;border-radius:.4rem;padding:.8rem 1rem}
.about code{word-break:break-all}
article{border-bottom:1px solid #ddd;padding:.8rem 0}
article h2{font-size:1.1rem;margin:0}
.meta{color:#666;font-size:.85rem}
.tag{display:inline-block;background:#eee;border-radius:.3rem;padding:0 .4rem;margin-right:.3rem}
</style>
</head>
<body>
<xsl:apply-templates select="atom:feed | rss/channel"/>
</body>
</html>
</xsl:template>

<xsl:template name="about">
<xsl:param name="self"/>
<xsl:param name="home"/>
<p class="about">This is a <strong>web feed</strong>. Copy its address into your feed reader to subscribe:
<br/><code id="feed-address"><xsl:value-of select="$self"/></code>
<br/><a href="{$home}">Read it as a web page</a></p>
</xsl:template>

<xsl:template match="atom:feed">
<h1 id="feed-title"><xsl:value-of select="atom:title"/></h1>
<xsl:if test="atom:subtitle"><p><xsl:value-of select="atom:subtitle"/></p></xsl:if>
<xsl:call-template name="about"><xsl:with-param name="self" select="atom:link[@rel='self']/@href"/><xsl:with-param name="home" select="atom:link[@rel='alternate']/@href"/></xsl:call-template>
<xsl:for-each select="atom:entry">
<article class="entry">
<h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
<p class="meta"><xsl:value-of select="atom:source/atom:title"/> ·
<xsl:if test="atom:author/atom:name != atom:source/atom:title"><xsl:value-of select="atom:author/atom:name"/> · </xsl:if>
<time datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time></p>
<xsl:if test="atom:summary"><p><xsl:value-of select="atom:summary"/></p></xsl:if>
<p><xsl:for-each select="atom:category"><span class="tag"><xsl:value-of select="@label"/></span></xsl:for-each></p>
</article>
</xsl:for-each>
<xsl:if test="atom:link[@rel='next']"><p><a rel="next" href="{atom:link[@rel='next']/@href}">Older entries</a></p></xsl:if>
</xsl:template>

<xsl:template match="channel">
<h1 id="feed-title"><xsl:value-of select="title"/></h1>
<p><xsl:value-of select="description"/></p>
<xsl:call-template name="about"><xsl:with-param name="self" select="atom:link[@rel='self']/@href"/><xsl:with-param name="home" select="link"/></xsl:call-template>
<xsl:for-each select="item">
<article class="entry">
<h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
<p class="meta"><xsl:value-of select="source"/> ·
<xsl:if test="dc:creator != source"><xsl:value-of select="dc:creator"/> · </xsl:if><xsl:value-of select="pubDate"/></p>
<p><xsl:for-each select="category"><span class="tag"><xsl:value-of select="."/></span></xsl:for-each></p>
</article>
</xsl:for-each>
<xsl:if test="atom:link[@rel='next']"><p><a rel="next" href="{atom:link[@rel='next']/@href}">Older entries</a></p></xsl:if>
</xsl:template>
</xsl:stylesheet>
`;
