# PgSafe's Windows installer (makensis 3; scripts/dist-windows.sh builds it, docs/PACKAGING.md).
# Adapted from Wails v2's NSIS template (v2/pkg/buildassets/build/windows/installer: project.nsi,
# wails_tools.nsh): per-user instead of per-machine, two executables, an uninstaller that keeps
# the user's settings unless asked, and that stops PgSafe's agent and removes its login item.
#
# makensis -INPUTCHARSET UTF8 with these defines (all required):
#   VERSION       PgSafe's version (scripts/version.sh)      FILEVERSION  the same as X.Y.Z.N
#   APP_EXE       pgsafe.exe (the window)                    HEADLESS_EXE pgsafe-headless.exe
#   ICON          the app icon (.ico)                        WEBVIEW2_SETUP  Microsoft's
#   OUTFILE       the installer to write                        WebView2 bootstrapper (in Wails)
#
# Installs into %LOCALAPPDATA%\Programs\PgSafe without administrator rights, adds a Start-menu
# shortcut and an entry in Settings > Apps (HKCU). The uninstaller (a page with a checkbox, or
# /DELETESETTINGS on its command line) deletes the settings folder %APPDATA%\PgSafe only when
# asked; run silently (/S) it keeps it. Backups and the encryption key (Windows Credential
# Manager) are never touched.

# A 64-bit installer (Debian's nsis has the amd64 stubs): PgSafe is for x64 Windows only, and so
# it also runs under a 64-bit-only Wine.
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma
# Reproducible: no build time is stored (scripts/dist-windows.sh sets the files' times).
SetDatablockOptimize on

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "WinVer.nsh"
!include "x64.nsh"
!include "nsDialogs.nsh"

!define PRODUCT "PgSafe"
!define COMPANY "PgSafe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\PgSafe"
# The login item PgSafe writes (backend/tray/autostart/runkey.go) and Task Manager's switch for it.
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define RUN_APPROVED_KEY "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
!define RUN_VALUE "PgSafe"
# The WebView2 runtime's client ID (Microsoft's WebView2 distribution guide).
!define WEBVIEW2_CLIENT "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${FILEVERSION}"
VIFileVersion "${FILEVERSION}"
VIAddVersionKey "CompanyName" "${COMPANY}"
VIAddVersionKey "FileDescription" "${PRODUCT} Setup"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "Copyright © 2026 PgSafe contributors"
VIAddVersionKey "ProductName" "${PRODUCT}"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\pgsafe.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Open PgSafe"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
UninstPage custom un.KeepDataPage un.KeepDataPageLeave
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

# 1 when the uninstaller deletes the settings folder: the checkbox, or /DELETESETTINGS.
Var DeleteSettings
Var DeleteSettingsBox

# Windows 10 or later on x64, as Wails requires (WebView2); a silent run exits 64/65 instead of
# showing a message.
!macro CheckWindows
  ${IfNot} ${AtLeastWin10}
    IfSilent 0 +3
      SetErrorLevel 64
      Quit
    MessageBox MB_OK|MB_ICONSTOP "${PRODUCT} needs Windows 10 or later."
    Quit
  ${EndIf}
  ${IfNot} ${IsNativeAMD64}
    IfSilent 0 +3
      SetErrorLevel 65
      Quit
    MessageBox MB_OK|MB_ICONSTOP "This ${PRODUCT} is for 64-bit (x64) Windows."
    Quit
  ${EndIf}
!macroend

# Stops a running PgSafe (its agent; open windows close with it) so that its files can be
# replaced or removed. A backup in progress gets its grace period. Hidden (nsExec): no console.
!macro StopAgent
  ${If} ${FileExists} "$INSTDIR\pgsafe-headless.exe"
    DetailPrint "Stopping PgSafe if it is running…"
    nsExec::ExecToLog '"$INSTDIR\pgsafe-headless.exe" agent stop'
    Pop $0
  ${EndIf}
!macroend

Function .onInit
  !insertmacro CheckWindows
  SetShellVarContext current
FunctionEnd

# The WebView2 runtime the window needs, as Wails' template installs it: when neither the
# machine-wide nor the per-user runtime is there, Microsoft's bootstrapper downloads and
# installs it (for this user, since the installer runs without elevation).
Function InstallWebView2
  SetRegView 64
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  ${If} $0 != ""
  ${AndIf} $0 != "0.0.0.0"
    DetailPrint "WebView2 Runtime $0 is installed"
    Return
  ${EndIf}
  SetDetailsPrint both
  DetailPrint "Installing: WebView2 Runtime"
  SetDetailsPrint listonly
  InitPluginsDir
  SetOutPath "$PLUGINSDIR\webview2"
  File "/oname=MicrosoftEdgeWebview2Setup.exe" "${WEBVIEW2_SETUP}"
  ExecWait '"$PLUGINSDIR\webview2\MicrosoftEdgeWebview2Setup.exe" /silent /install' $1
  SetDetailsPrint both
  ${If} $1 != 0
    DetailPrint "The WebView2 Runtime did not install (exit $1): PgSafe's window needs it"
  ${EndIf}
FunctionEnd

Section "PgSafe" SecMain
  SectionIn RO
  Call InstallWebView2

  SetOutPath "$INSTDIR"
  !insertmacro StopAgent
  File "/oname=pgsafe.exe" "${APP_EXE}"
  File "/oname=pgsafe-headless.exe" "${HEADLESS_EXE}"

  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\pgsafe.exe" "" "$INSTDIR\pgsafe.exe" 0 \
    SW_SHOWNORMAL "" "PostgreSQL backups you can trust"

  WriteUninstaller "$INSTDIR\uninstall.exe"
  SetRegView 64
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${COMPANY}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\pgsafe.exe"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

Function un.onInit
  SetShellVarContext current
  StrCpy $DeleteSettings 0
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/DELETESETTINGS" $1
  ${IfNot} ${Errors}
    StrCpy $DeleteSettings 1
  ${EndIf}
FunctionEnd

Function un.KeepDataPage
  !insertmacro MUI_HEADER_TEXT "Your settings" "Keep PgSafe's settings for a later install?"
  nsDialogs::Create 1018
  Pop $0
  ${NSD_CreateLabel} 0 0 100% 60u "PgSafe's settings (databases, storages, schedules, backup history) are in $APPDATA\PgSafe. They stay unless you tick the box. Your backups and your encryption key (in Windows Credential Manager) are never deleted: keep the key, or its recovery copy, to restore your backups."
  Pop $0
  ${NSD_CreateCheckbox} 0 70u 100% 12u "&Delete PgSafe's settings too"
  Pop $DeleteSettingsBox
  ${If} $DeleteSettings == 1
    ${NSD_Check} $DeleteSettingsBox
  ${EndIf}
  nsDialogs::Show
FunctionEnd

Function un.KeepDataPageLeave
  ${NSD_GetState} $DeleteSettingsBox $DeleteSettings
  ${If} $DeleteSettings == ${BST_CHECKED}
    StrCpy $DeleteSettings 1
  ${Else}
    StrCpy $DeleteSettings 0
  ${EndIf}
FunctionEnd

Section "Uninstall"
  !insertmacro StopAgent

  # The login item (HKCU Run value) would start a program that is gone.
  DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  DeleteRegValue HKCU "${RUN_APPROVED_KEY}" "${RUN_VALUE}"

  # Only PgSafe's files, then the folder if empty: the folder may have been one of the user's.
  Delete "$INSTDIR\pgsafe.exe"
  Delete "$INSTDIR\pgsafe-headless.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  # The window's WebView2 cache (Wails' default data folder), not the user's settings.
  RMDir /r "$APPDATA\pgsafe.exe"

  ${If} $DeleteSettings == 1
    DetailPrint "Deleting PgSafe's settings in $APPDATA\PgSafe"
    RMDir /r "$APPDATA\PgSafe"
  ${Else}
    DetailPrint "PgSafe's settings in $APPDATA\PgSafe are kept"
  ${EndIf}

  SetRegView 64
  DeleteRegKey HKCU "${UNINST_KEY}"
SectionEnd
