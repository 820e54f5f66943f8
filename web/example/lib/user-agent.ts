/**
 * describeUserAgent turns a User-Agent header into "Chrome on Linux". It knows the browsers and
 * systems most sessions come from and answers "Unknown browser" for the rest; the full string
 * stays available as a tooltip. Order matters: Edge and Opera also say "Chrome", Chrome also
 * says "Safari", Android also says "Linux".
 */
export function describeUserAgent(ua: string | null | undefined): string {
  if (!ua) return "Unknown device";
  const browser =
    (
      [
        [/Edg(e|A|iOS)?\//, "Edge"],
        [/OPR\/|Opera/, "Opera"],
        [/SamsungBrowser\//, "Samsung Internet"],
        [/Firefox\/|FxiOS\//, "Firefox"],
        [/HeadlessChrome\//, "Headless Chrome"],
        [/Chrome\/|CriOS\/|Chromium\//, "Chrome"],
        [/Safari\//, "Safari"],
        [/^curl\//, "curl"],
        [/^node|undici/i, "Node.js"],
      ] as const
    ).find(([re]) => re.test(ua))?.[1] ?? "Unknown browser";
  const os =
    (
      [
        [/iPhone|iPad|iPod/, "iOS"],
        [/Android/, "Android"],
        [/CrOS/, "ChromeOS"],
        [/Windows/, "Windows"],
        [/Mac OS X|Macintosh/, "macOS"],
        [/Linux/, "Linux"],
      ] as const
    ).find(([re]) => re.test(ua))?.[1];
  return os ? `${browser} on ${os}` : browser;
}
