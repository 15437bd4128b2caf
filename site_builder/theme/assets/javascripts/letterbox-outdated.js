/* Material for MkDocs 9.8 partials/javascripts/outdated.html, as a file for the Content-Security-Policy
 * (the base URL is the site root: two folders up from this script). */
var el=document.querySelector("[data-md-component=outdated]"),base=new URL("../../",document.currentScript.src),outdated=__md_get("__outdated",sessionStorage,base);!0===outdated&&el&&(el.hidden=!1);
