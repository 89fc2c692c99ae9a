#!/usr/bin/python3
"""browser.py -- the release portal in headless Chromium: recipients ask, approvers decide, the attacks fail.

Reads its inputs from the environment (set by tests/suites/62-portal.sh); prints "ok NAME" or
"FAIL NAME: why" per check and saves a screenshot of every page to $ART.
"""
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

E = os.environ
BASE, ART = E["BASE"], E["ART"]
failed = 0


def result(name, ok, why=""):
    global failed
    print(("ok %s" % name) if ok else ("FAIL %s: %s" % (name, why)), flush=True)
    failed += 0 if ok else 1


def start():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1100,1400",
              "--ignore-certificate-errors", "--user-data-dir=" + tempfile.mkdtemp(prefix="tg-chromium-")):
        o.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def shot(d, name):
    d.save_screenshot(os.path.join(ART, name + ".png"))


def body(d):
    return d.find_element(By.TAG_NAME, "body").text


def totp(secret):
    return subprocess.run(["oathtool", "--totp", "-b", secret], check=True, capture_output=True,
                          text=True).stdout.strip()


def japanese_renders(d):
    """Glyphs, not tofu: two different kanji must draw differently, and unlike a private-use character
    (which no font has, so it draws the same box as any missing glyph)."""
    imgs = []
    for text in ("無", "害", "\ue000", "\ue001"):
        d.execute_script("var s=document.createElement('span');s.id='probe';s.style.fontSize='40px';"
                         "s.textContent=arguments[0];document.querySelector('h1').appendChild(s);", text)
        imgs.append(d.find_element(By.ID, "probe").screenshot_as_png)
        d.execute_script("document.getElementById('probe').remove();")
    tofu_same = imgs[2] == imgs[3]
    return tofu_same and imgs[0] != imgs[1] and imgs[0] != imgs[2] and imgs[1] != imgs[2], tofu_same


def recipient_pages(d):
    d.get(E["LINK_A"])
    shot(d, "01-recipient-request")
    t = body(d)
    result("recipient page shows what arrived, Japanese first", "届いたメール" in t and "What arrived" in t and
           "予算集計表" in t and "budget.xlsx" in t, t[:300])
    result("recipient page never shows the original's content", "令和7年度" not in t and "AutoOpen" not in t)
    ok, tofu_same = japanese_renders(d)
    result("Japanese text renders as glyphs, not tofu", ok, "private-use boxes equal: %s" % tofu_same)
    for name, link, expect in (("forged", E["LINK_FORGED"], "forged token"), ("expired", E["LINK_EXPIRED"], "expired token"),
                               ("other-user", E["LINK_OTHER"], "not a recipient"),
                               ("swapped-recipient", E["LINK_SWAPPED"], "forged token")):
        d.get(link)
        shot(d, "02-token-" + name)
        t = body(d)
        result("%s token refused" % name, "無効" in t and expect in t and not d.find_elements(By.ID, "reason"), t[:200])
    d.get(E["LINK_A"])
    d.find_element(By.ID, "reason").send_keys("予算の集計に必要です。マクロで計算しています。")
    click_and_wait(d, d.find_element(By.ID, "ask"))
    shot(d, "03-recipient-asked")
    t = body(d)
    result("recipient's request is pending", "審査中" in t and "予算の集計に必要です" in t, t[-300:])
    d.get(E["LINK_B"])
    d.find_element(By.ID, "reason").send_keys("念のため原本を確認したい")
    click_and_wait(d, d.find_element(By.ID, "ask"))
    result("second recipient's request is pending", "審査中" in body(d))


def raw_post(path, fields, cookie=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    req = urllib.request.Request(BASE + path, data=urllib.parse.urlencode(fields).encode(), method="POST")
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def click_and_wait(d, button):
    """Submits and waits until the next page replaced this one (no typing into a page that is going away)."""
    button.click()
    WebDriverWait(d, 15).until(EC.staleness_of(button))


def login(d, user, password, code):
    d.get(BASE + "/login")
    d.find_element(By.ID, "user").send_keys(user)
    d.find_element(By.ID, "password").send_keys(password)
    d.find_element(By.ID, "otp").send_keys(code)
    click_and_wait(d, d.find_element(By.ID, "login"))


def lockout(d):
    for _ in range(5):   # the right password, wrong TOTP codes: the daemon counts them (lockout_threshold 5)
        login(d, E["LOCK_USER"], E["LOCK_PASS"], "000000")
    login(d, E["LOCK_USER"], E["LOCK_PASS"], totp(E["LOCK_SECRET"]))
    shot(d, "04-login-locked")
    t = body(d)
    result("login lockout: right credentials refused after 5 failures", "ロックされています" in t and
           "/queue" not in d.current_url, t[:200])


def decide(d, rcpt, action, comment):
    for sec in d.find_elements(By.CSS_SELECTOR, "section.request"):
        if ("recipient " + rcpt) in sec.text:   # the "asked by" row: every section lists all recipients
            if comment:
                sec.find_element(By.NAME, "comment").send_keys(comment)
            click_and_wait(d, sec.find_element(By.CSS_SELECTOR, "button." + action))
            return d.find_element(By.ID, "result").text
    return "request of %s not in the queue" % rcpt


def approvers(d):
    login(d, E["APPR1"], E["APPR1_PASS"], totp(E["APPR1_SECRET"]))
    shot(d, "05-approver-queue")
    t = body(d)
    result("approver logs in with password + oathtool code", d.current_url.endswith("/queue"), d.current_url)
    result("queue shows report, sender, recipients and reason", "予算の集計に必要です" in t and
           "sender@example.co.jp" in t and E["RCPT_A"] in t and "budget.xlsx" in t, t[:400])
    cookie = "tgp_s=" + d.get_cookie("tgp_s")["value"]
    code, text = raw_post("/decide", {"req": "0123456789abcdef", "action": "approve"}, cookie)
    result("decision without CSRF token refused", code == 403 and "CSRF" in text, "%d %s" % (code, text[:100]))
    code, text = raw_post("/r", {"t": E["LINK_A"].split("t=", 1)[1], "reason": "x"})
    result("request without CSRF token refused", code == 403 and "CSRF" in text, "%d %s" % (code, text[:100]))
    r = decide(d, E["RCPT_A"], "approve", "確認しました")
    shot(d, "06-first-approval")
    result("first approval waits for a second approver", "needs 1 more approval" in r, r)
    d.get(BASE + "/queue")
    r = decide(d, E["RCPT_A"], "approve", "")
    shot(d, "07-same-approver-again")
    result("same approver cannot give the second approval", "cannot approve twice" in r, r)
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))
    login(d, E["APPR2"], E["APPR2_PASS"], totp(E["APPR2_SECRET"]))
    r = decide(d, E["RCPT_A"], "approve", "")
    shot(d, "08-second-approval")
    result("a second, different approver releases", "released" in r, r)
    d.get(BASE + "/queue")
    r = decide(d, E["RCPT_B"], "refuse", "業務上不要のため却下します")
    shot(d, "09-refused")
    result("approver refuses the other request", "refused" in r, r)
    d.get(BASE + "/status")
    shot(d, "10-status")
    t = body(d)
    result("status page: counts by day and reason, last releases", "隔離件数" in t and E["RCPT_A"] in t and
           "最近の送付" in t, t[:300])


def recipients_after(d):
    d.get(E["LINK_A"])
    shot(d, "11-recipient-released")
    result("recipient sees the release", "承認され" in body(d), body(d)[-200:])
    d.get(E["LINK_B"])
    shot(d, "12-recipient-refused")
    t = body(d)
    result("other recipient sees the refusal and its reason", "却下されました" in t and "業務上不要" in t, t[-200:])


def main():
    d = start()
    try:
        recipient_pages(d)
        lockout(d)
        approvers(d)
        recipients_after(d)
    except Exception as e:  # a missing element is a failure with the page it happened on
        shot(d, "99-error")
        result("browser run completed", False, "%s: %s" % (type(e).__name__, str(e)[:300]))
    finally:
        d.quit()
    sys.exit(1 if failed else 0)


main()
