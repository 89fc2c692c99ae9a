#!/usr/bin/python3
"""lo-save.py PROFILE_DIR JOB... -- the test's own LibreOffice (not tiergate's): makes the documents only
LibreOffice can write, over UNO, with a private profile.

JOB is one of
  convert:IN:FILTER:OUT         store IN as OUT with the export filter FILTER (writer_pdf_Export, "MS Word 97" ...)
  encrypt:IN:FILTER:OUT         the same with a password ("secret"): an encrypted (PPAP) office file
  macro:IN:OUT                  IN with a Basic macro run on open that appends MACRORAN to the text
  runmacro:IN:OUT               opens IN letting macros run (the control: the macro does work when allowed),
                                stores its text as OUT
  links:IN:OUT                  opens IN updating every link (UpdateDocMode FULL_UPDATE: the control that its links
                                are real), stores its text as OUT and its pages as OUT.pdf (which loads the images)
  embed:IN:FILTER:OUT           IN with an embedded Calc object (a filled block of cells) appended, stored
                                with FILTER (writer8: an ODS inside the ODT; "MS Word 2007 XML": an OLE object)
"""
import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue

MACRO = 'Sub Main(oEvent)\n  oEvent.Source.getText().getEnd().setString("MACRORAN")\nEnd Sub\n'
SCRIPT = "vnd.sun.star.script:Standard.Module1.Main?language=Basic&location=document"


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def named(name, value):
    from com.sun.star.beans import NamedValue
    n = NamedValue()
    n.Name = name
    n.Value = value
    return n


def url(path):
    return uno.systemPathToFileUrl(os.path.abspath(path))


def start(profile):
    pipe = "tgtest%d" % os.getpid()
    office = subprocess.Popen(["/usr/lib/libreoffice/program/soffice.bin", "--headless", "--invisible",
                               "--norestore", "--nologo", "--nodefault", "-env:UserInstallation=" + url(profile),
                               "--accept=pipe,name=%s;urp;" % pipe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(1200):
        if office.poll() == 81:   # first start with a new profile: started again, as the soffice script does
            office = subprocess.Popen(office.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            return office, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            time.sleep(0.05)
    sys.exit("lo-save: soffice did not answer")


def load(desktop, path, macros=0):
    # a macro run on open needs a (headless) view: Hidden documents do not fire OnLoad
    return desktop.loadComponentFromURL(url(path), "_blank", 0,
                                        (prop("Hidden", macros == 0), prop("MacroExecutionMode", macros)))


def job(desktop, spec):
    f = spec.split(":")
    if f[0] in ("convert", "encrypt"):
        doc = load(desktop, f[1])
        args = [prop("FilterName", f[2])]
        if f[0] == "encrypt":   # what the Save dialog's password sets: EncryptionData (and Password)
            args.append(prop("EncryptionData", uno.Any("[]com.sun.star.beans.NamedValue", (
                named("OOXPassword", "secret"),))))
        uno.invoke(doc, "storeToURL", (url(f[3]), tuple(args)))
    elif f[0] == "macro":
        doc = load(desktop, f[1])
        lib = doc.BasicLibraries
        if not lib.hasByName("Standard"):
            lib.createLibrary("Standard")
        lib.getByName("Standard").insertByName("Module1", MACRO)
        uno.invoke(doc.getEvents(), "replaceByName", ("OnLoad", uno.Any("[]com.sun.star.beans.PropertyValue", (
            prop("EventType", "Script"), prop("Script", SCRIPT)))))
        doc.storeToURL(url(f[2]), (prop("FilterName", "writer8"),))
    elif f[0] == "runmacro":
        doc = load(desktop, f[1], macros=4)   # ALWAYS_EXECUTE_NO_WARN
        time.sleep(1)
        doc.storeToURL(url(f[2]), (prop("FilterName", "Text (encoded)"), prop("FilterOptions", "UTF8,LF")))
    elif f[0] == "links":
        doc = desktop.loadComponentFromURL(url(f[1]), "_blank", 0, (prop("Hidden", True), prop("UpdateDocMode", 3)))
        doc.updateLinks()   # XLinkUpdate: the sections' and graphics' links, as Edit > Links > Update does
        doc.storeToURL(url(f[2]), (prop("FilterName", "Text (encoded)"), prop("FilterOptions", "UTF8,LF")))
        doc.storeToURL(url(f[2] + ".pdf"), (prop("FilterName", "writer_pdf_Export"),))
    elif f[0] == "embed":
        doc = load(desktop, f[1])
        obj = doc.createInstance("com.sun.star.text.TextEmbeddedObject")
        obj.CLSID = "47BBB4CB-CE4C-4E80-A591-42D9AE74950F"   # a Calc spreadsheet
        doc.getText().insertTextContent(doc.getText().getEnd(), obj, False)
        sheet = obj.getEmbeddedObject().getSheets().getByIndex(0)
        for r in range(8):
            for c in range(4):
                cell = sheet.getCellByPosition(c, r)
                cell.setString("EMBEDCELL %d" % (r * 4 + c))
                cell.CellBackColor = 0x204080
        obj.Width, obj.Height = 15000, 6000
        doc.storeToURL(url(f[3]), (prop("FilterName", f[2]),))
    else:
        sys.exit("lo-save: unknown job " + spec)
    doc.close(True)


def main():
    office, desktop = start(sys.argv[1])
    try:
        for spec in sys.argv[2:]:
            job(desktop, spec)
    finally:
        try:
            desktop.terminate()
        except Exception:
            pass
        try:
            office.wait(timeout=20)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main()
